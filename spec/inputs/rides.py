# Generates spec/inputs/rides.json (3000 ride-share trips, about one every
# 2 s with some out of order) and prints the expected rows of
# rides_city_windows.test and rides_top_drivers.test, computed here,
# independently of the Go code:  python3 spec/inputs/rides.py
import json, random, datetime, collections
r = random.Random(11)
base = datetime.datetime(2024, 3, 1, 8, 0, 0, tzinfo=datetime.timezone.utc)
cities = ["austin", "boston", "chicago", "denver"]
rides = []
for i in range(3000):
    t = base + datetime.timedelta(seconds=2 * i + r.randint(-20, 20))
    rides.append({"ride_id": i, "driver_id": r.randint(1, 60), "city": r.choice(cities),
                  "fare_cents": r.randint(500, 8000), "distance_km": round(r.uniform(0.5, 30.0), 1),
                  "ts": t.strftime("%Y-%m-%dT%H:%M:%SZ")})
with open("spec/inputs/rides.json", "w") as f:
    for x in rides:
        f.write(json.dumps(x, separators=(",", ":")) + "\n")

def window(ts, minutes):
    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")
    start = t.replace(minute=(t.minute // minutes) * minutes, second=0)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")

# rides_city_windows: per city and 10-minute window: rides, total fare,
# longest trip; only windows with at least 20 rides.
g = collections.defaultdict(list)
for x in rides:
    g[(x["city"], window(x["ts"], 10))].append(x)
print("-- rides_city_windows")
for (city, ws), xs in sorted(g.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    if len(xs) >= 20:
        print(json.dumps({"city": city, "ws": ws, "rides": len(xs), "fare": sum(x["fare_cents"] for x in xs),
                          "longest": max(x["distance_km"] for x in xs)}))

# rides_top_drivers: per 30-minute window the 3 drivers with the most
# rides (ties: the lower driver id first), with their rank.
g = collections.defaultdict(lambda: collections.Counter())
for x in rides:
    g[window(x["ts"], 30)][x["driver_id"]] += 1
print("-- rides_top_drivers")
for ws in sorted(g):
    top = sorted(g[ws].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    for i, (d, n) in enumerate(top):
        print(json.dumps({"ws": ws, "driver_id": d, "rides": n, "rn": i + 1}))

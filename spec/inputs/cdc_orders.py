# Generates spec/inputs/cdc_orders.json (a Debezium changelog of an orders
# table) and prints the expected final state of cdc_orders_changelog.test,
# computed here, independently of the Go code.
import json, random, sys
r = random.Random(7)
customers = ["ana", "bo", "chen", "dara", "eli", "fay", "gus", "hana"]
flow = {"pending": "paid", "paid": "shipped", "shipped": "delivered"}
live = {}   # order_id -> row
recs = []
next_id = 1000
def rec(before, after, op):
    recs.append(json.dumps({"before": before, "after": after, "op": op, "ts_ms": 1700000000000 + len(recs)}, separators=(",", ":")))
# snapshot of 40 existing orders
for _ in range(40):
    row = {"order_id": next_id, "customer": r.choice(customers), "status": r.choice(["pending", "paid", "shipped"]), "qty": r.randint(1, 5), "price": r.randint(100, 5000)}
    next_id += 1
    live[row["order_id"]] = row
    rec(None, row, "r")
while len(recs) < 3000:
    x = r.random()
    if x < 0.25 or len(live) < 10:
        row = {"order_id": next_id, "customer": r.choice(customers), "status": "pending", "qty": r.randint(1, 5), "price": r.randint(100, 5000)}
        next_id += 1
        live[row["order_id"]] = row
        rec(None, row, "c")
    elif x < 0.33:
        k = r.choice(sorted(live))
        rec(live.pop(k), None, "d")
    else:
        k = r.choice(sorted(live))
        old = live[k]
        new = dict(old)
        if old["status"] in flow and r.random() < 0.7:
            new["status"] = flow[old["status"]]
        elif old["status"] == "delivered" and r.random() < 0.3:
            new["status"] = "pending"  # returned and reordered
        else:
            new["qty"] = r.randint(1, 5)
        live[k] = new
        rec(old, new, "u")
with open(sys.argv[1], "w") as f:
    f.write("\n".join(recs) + "\n")
# SELECT order_id, upper(customer) AS customer, status, qty * price AS total
# FROM changes WHERE status <> 'pending' AND qty > 1
for k in sorted(live):
    row = live[k]
    if row["status"] != "pending" and row["qty"] > 1:
        print(json.dumps({"order_id": k, "customer": row["customer"].upper(), "status": row["status"], "total": row["qty"] * row["price"]}))

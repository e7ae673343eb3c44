CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '1000000000', event_count = '1000');

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

-- exactly one of person, auction, bid is set per event; 2% / 6% / 92%
INSERT INTO out
SELECT person.id AS person_id, person.state AS state, auction.id AS auction_id, auction.category AS category,
       CASE WHEN person IS NOT NULL THEN 'person' WHEN auction IS NOT NULL THEN 'auction' ELSE 'bid' END AS kind
FROM nexmark
WHERE bid IS NULL;

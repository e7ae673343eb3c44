CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '1000000000', event_count = '1000');

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

-- Nexmark q2: bids on auctions whose id is divisible by 123, or in a fixed set
INSERT INTO out
SELECT bid.auction AS auction, bid.price AS price
FROM nexmark
WHERE bid.auction % 123 = 0 OR bid.auction IN (1007, 1020, 2001);

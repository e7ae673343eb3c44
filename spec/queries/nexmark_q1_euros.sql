CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '1000000000', event_count = '1000');

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

-- Nexmark q1: price in euros
INSERT INTO out
SELECT bid.auction AS auction, bid.bidder AS bidder, bid.price * 0.908 AS price_eur
FROM nexmark
WHERE bid IS NOT NULL;

CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '1000000000', event_count = '1000');

CREATE TABLE out WITH (connector = 'single_file', path = '$output_path', format = 'json', type = 'sink');

-- Nexmark q0: every bid, through struct field access
INSERT INTO out
SELECT bid.auction, bid.bidder, bid.price, bid.channel, bid.url
FROM nexmark
WHERE bid IS NOT NULL;

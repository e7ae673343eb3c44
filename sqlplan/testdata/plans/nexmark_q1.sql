CREATE TABLE nexmark WITH (connector = 'nexmark', event_rate = '1000', event_count = '100');
SELECT bid.auction AS auction, bid.price * 0.908 AS price FROM nexmark WHERE bid IS NOT NULL;

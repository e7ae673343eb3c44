-- The quickstart: 1,000 Nexmark events from the built-in generator, the
-- expensive bids with their price in euros, printed as JSON lines.
CREATE TABLE nexmark WITH (
    connector = 'nexmark',
    event_rate = '10000',
    event_count = '1000'
);

SELECT bid.auction AS auction,
       bid.bidder AS bidder,
       bid.price AS price_usd,
       CAST(bid.price * 0.908 AS BIGINT) AS price_eur,
       bid.channel
FROM nexmark
WHERE bid IS NOT NULL AND bid.price > 1000000;

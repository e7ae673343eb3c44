CREATE TABLE i WITH (CONNECTOR = 'impulse', Event_Rate = '1000', MESSAGE_COUNT = '3');
CREATE TABLE out WITH (Connector = 'single_file', PATH = '$output_path', Type = 'sink');
INSERT INTO out SELECT counter::BIGINT AS n FROM i;

-- The planned dataflow graph of a pipeline (the API's PipelineGraph as
-- JSON), kept so listing pipelines does not plan every query again.
ALTER TABLE pipelines ADD COLUMN graph TEXT NOT NULL DEFAULT '';

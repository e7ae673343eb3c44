module github.com/arroyogo/arroyo/examples/udfs/go

go 1.24

require github.com/arroyogo/arroyo/udf/sdk/go v0.0.0

replace github.com/arroyogo/arroyo/udf/sdk/go => ../../../udf/sdk/go

module github.com/arroyogo/arroyo/udf/sdk/go

go 1.24

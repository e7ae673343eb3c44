;; Not a UDF module: a memory and nothing else.
(module (memory (export "memory") 1))

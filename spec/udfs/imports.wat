;; Hostile: the module imports a function from outside WASI.
(module
  (import "env" "open_socket" (func $sock (result i32)))
  (memory (export "memory") 1)
  (func (export "arroyo_udf_abi") (result i32) (i32.const 1))
  (func (export "arroyo_udf_manifest") (result i64) (i64.const 0))
  (func (export "arroyo_udf_alloc") (param i32) (result i32) (call $sock))
  (func (export "arroyo_udf_call") (param i32 i32) (result i32) (i32.const 0))
)

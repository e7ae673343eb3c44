;; Malformed: the manifest's signature lacks its closing parenthesis.
(module
  (memory (export "memory") 4)
  (data (i32.const 1024) "arroyo-udf 1\0ascalar f(BIGINT -> BIGINT\0a")
  (func (export "arroyo_udf_abi") (result i32) (i32.const 1))
  (func (export "arroyo_udf_manifest") (result i64)
    (i64.or (i64.const 1024) (i64.shl (i64.const 39) (i64.const 32))))
  (func (export "arroyo_udf_alloc") (param $size i32) (result i32) (i32.const 65536))
  ;; The result descriptor at 2048: status, n, nulls, values, offsets, msg, msg_len.
  (func (export "arroyo_udf_call") (param $fn i32) (param $in i32) (result i32)
    (i32.store (i32.const 2048) (i32.const 0))
    (i32.store (i32.const 2052) (i32.load (local.get $in)))
    (i32.store (i32.const 2056) (i32.const 0))
    (i32.store (i32.const 2060) (i32.load (i32.add (local.get $in) (i32.const 12))))
    (i32.const 2048)
  )
)

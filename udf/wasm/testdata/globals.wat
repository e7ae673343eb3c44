;; instrument's input: an imported i64 global (the interrupt global's
;; index must count it: global.get of an i64 in an if would not
;; validate), a defined global, exports, SIMD and bulk memory
;; instructions, br_table and a data count section.
(module
  (import "env" "g" (global $g i64))
  (memory (export "memory") 1)
  (global $h (mut i32) (i32.const 7))
  (data $d "abc")
  (func (export "f") (param $n i32) (result i32)
    (local $v v128)
    (local.set $v (v128.const i32x4 1 2 3 4))
    (local.set $v (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get $v) (local.get $v)))
    (v128.store offset=16 (i32.const 0) (local.get $v))
    (local.set $v (v128.load32_lane 1 (i32.const 0) (local.get $v)))
    (memory.init $d (i32.const 0) (i32.const 0) (i32.const 3))
    (memory.copy (i32.const 8) (i32.const 0) (i32.const 3))
    (data.drop $d)
    (loop $l
      (block $a (block $b
        (br_table $a $b $l (local.get $n))))
      (global.set $h (i32.add (global.get $h) (i32x4.extract_lane 2 (local.get $v)))))
    (i32.add (global.get $h) (i32.wrap_i64 (global.get $g))))
)

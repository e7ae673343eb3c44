;; instrument's input: no global and no export section; a loop with a
;; parameter (multi-value), nested loops, a loop in a block. run(n) counts
;; down from n in nested loops; spin() never returns.
(module
  (type $t (func (param i32) (result i32)))
  (func $run (param $n i32) (result i32)
    (local $acc i32)
    (block $out
      (loop $l
        (br_if $out (i32.eqz (local.get $n)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (i32.const 0)
        (loop $inner (param i32) (result i32)
          (i32.add (i32.const 1)))
        (local.set $acc (i32.add (local.get $acc)))
        (br $l)))
    (local.get $acc))
  (func $spin (loop $l (br $l)))
  (func $start (drop (call $run (i32.const 0))))
  (start $start))

;; instrument's input for TestInstrumentBranches: loops whose checks leave
;; the loop for a slow path every 16384 iterations and enter it again, so
;; that branches out of them are renumbered: nested loops, br_if and
;; br_table across loops, a loop with a result, a loop with a parameter
;; (checked in place), a return from a loop. Every function computes the
;; same with and without the checks.
(module
  (memory (export "memory") 1)
  (type $p (func (param i32) (result i32)))
  ;; sum over i < n, j < m of (i ^ j) & 7, leaving the inner loop with a
  ;; br_if to the outer block and the outer loop by a br_table.
  (func (export "nested") (param $n i32) (param $m i32) (result i32)
    (local $i i32) (local $j i32) (local $s i32)
    (block $done
      (loop $outer
        (local.set $j (i32.const 0))
        (block $inner_done
          (loop $inner
            (br_if $inner_done (i32.ge_u (local.get $j) (local.get $m)))
            (local.set $s (i32.add (local.get $s)
              (i32.and (i32.xor (local.get $i) (local.get $j)) (i32.const 7))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            ;; every 5th row of j: leave for $outer's next iteration
            ;; (br_table: 0 -> $inner, 1 -> $outer_next)
            (block $outer_next
              (br_table $inner $outer_next
                (i32.eqz (i32.rem_u (local.get $j) (i32.const 5)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
            (br $outer)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $outer (i32.lt_u (local.get $i) (local.get $n)))))
    (local.get $s))
  ;; a loop with an i32 result: counts to n, the result left by the loop.
  (func (export "result") (param $n i32) (result i32)
    (local $i i32)
    (loop $l (result i32)
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))
      (i32.mul (local.get $i) (i32.const 3))))
  ;; a loop with a parameter: the running value is the loop's operand.
  (func (export "param") (param $n i32) (result i32)
    (local $i i32)
    (i32.const 1)
    (loop $l (type $p)
      (i32.add (i32.const 2))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  ;; return from inside two loops, and a branch to the function's label.
  (func (export "ret") (param $n i32) (result i32)
    (local $i i32)
    (loop $a
      (loop $b
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eq (local.get $i) (local.get $n))
          (then (return (i32.add (local.get $i) (i32.const 1000)))))
        (if (i32.gt_u (local.get $i) (i32.const 1000000))
          (then (br 3 (i32.const -1))))
        (br_if $b (i32.and (local.get $i) (i32.const 1)))
        (br $a)))
    (i32.const -2))
)

;; The packed histogram kernels of the boosted trees (see histogram.ts: buildPacked and
;; buildPackedColumns, which they replace when the grower's buffers live in this module's
;; memory). Written by hand: V8 compiles these loops to about half the instructions of the
;; JavaScript ones (no bounds checks on the typed arrays, no tagged indices), and the histogram
;; sums are most of a fit's time.
;;
;; Every pointer is a byte offset into the imported memory, shared with the helper thread.
;; Histograms are doubles, PACKED_SPAN (264: 256 and padding) bins a feature, one double a bin (slots = 1: the
;; count and gradient packed in one number) or two (slots = 2: and the hessian). `v` holds each
;; row's packed values at v[2i] and v[2i + 1] (16 bytes a row). The sums are of integers below
;; 2^53, so they are exact in any order and equal those of the JavaScript kernels.
;;
;; Regenerate kernels-wasm.ts after editing: `node scripts/wasm.mjs`.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Rows order[begin..end) (u32), features tFrom..tTo of each row's `stride` bytes of bins,
  ;; features[t] = t (identity), one slot, `span` bytes a feature's histogram:
  ;; hist[t·span + 8·bin] += v[2i].
  (func (export "rows1")
    (param $hist i32) (param $bins i32) (param $stride i32) (param $order i32)
    (param $begin i32) (param $end i32) (param $v i32) (param $tFrom i32) (param $tTo i32)
    (param $span i32)
    (local $k i32) (local $i i32) (local $x f64) (local $p i32) (local $pEnd i32) (local $o i32)
    (local $a i32) (local $b i32)
    (local.set $k (local.get $begin))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $i (i32.load (i32.add (local.get $order) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $x (f64.load (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 4)))))
        (local.set $p
          (i32.add (i32.add (local.get $bins) (i32.mul (local.get $i) (local.get $stride))) (local.get $tFrom)))
        (local.set $pEnd (i32.add (local.get $p) (i32.sub (local.get $tTo) (local.get $tFrom))))
        (local.set $o (i32.add (local.get $hist) (i32.mul (local.get $tFrom) (local.get $span))))
        ;; Two features a step: independent updates overlap.
        (block $pairs
          (loop $pair
            (br_if $pairs (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $pEnd)))
            (local.set $a (i32.add (local.get $o) (i32.shl (i32.load8_u (local.get $p)) (i32.const 3))))
            (local.set $b
              (i32.add (i32.add (local.get $o) (local.get $span))
                (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 3))))
            (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $x)))
            (f64.store (local.get $b) (f64.add (f64.load (local.get $b)) (local.get $x)))
            (local.set $p (i32.add (local.get $p) (i32.const 2)))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $span) (i32.const 1))))
            (br $pair)))
        (if (i32.lt_u (local.get $p) (local.get $pEnd))
          (then
            (local.set $a (i32.add (local.get $o) (i32.shl (i32.load8_u (local.get $p)) (i32.const 3))))
            (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $x)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))

  ;; As rows1, two slots: hist[t·span + 16·bin] += v[2i], and the next double += v[2i + 1].
  (func (export "rows2")
    (param $hist i32) (param $bins i32) (param $stride i32) (param $order i32)
    (param $begin i32) (param $end i32) (param $v i32) (param $tFrom i32) (param $tTo i32)
    (param $span i32)
    (local $k i32) (local $i i32) (local $x f64) (local $y f64) (local $p i32) (local $pEnd i32)
    (local $o i32) (local $a i32) (local $b i32)
    (local.set $k (local.get $begin))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $i (i32.load (i32.add (local.get $order) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $a (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 4))))
        (local.set $x (f64.load (local.get $a)))
        (local.set $y (f64.load offset=8 (local.get $a)))
        (local.set $p
          (i32.add (i32.add (local.get $bins) (i32.mul (local.get $i) (local.get $stride))) (local.get $tFrom)))
        (local.set $pEnd (i32.add (local.get $p) (i32.sub (local.get $tTo) (local.get $tFrom))))
        (local.set $o (i32.add (local.get $hist) (i32.mul (local.get $tFrom) (local.get $span))))
        ;; Two features a step, as rows1.
        (block $pairs
          (loop $pair
            (br_if $pairs (i32.ge_u (i32.add (local.get $p) (i32.const 1)) (local.get $pEnd)))
            (local.set $a (i32.add (local.get $o) (i32.shl (i32.load8_u (local.get $p)) (i32.const 4))))
            (local.set $b
              (i32.add (i32.add (local.get $o) (local.get $span))
                (i32.shl (i32.load8_u offset=1 (local.get $p)) (i32.const 4))))
            (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $x)))
            (f64.store offset=8 (local.get $a) (f64.add (f64.load offset=8 (local.get $a)) (local.get $y)))
            (f64.store (local.get $b) (f64.add (f64.load (local.get $b)) (local.get $x)))
            (f64.store offset=8 (local.get $b) (f64.add (f64.load offset=8 (local.get $b)) (local.get $y)))
            (local.set $p (i32.add (local.get $p) (i32.const 2)))
            (local.set $o (i32.add (local.get $o) (i32.shl (local.get $span) (i32.const 1))))
            (br $pair)))
        (if (i32.lt_u (local.get $p) (local.get $pEnd))
          (then
            (local.set $a (i32.add (local.get $o) (i32.shl (i32.load8_u (local.get $p)) (i32.const 4))))
            (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $x)))
            (f64.store offset=8 (local.get $a) (f64.add (f64.load offset=8 (local.get $a)) (local.get $y)))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))

  ;; Features named by features[tFrom..tTo) (i32), one or two slots ($shift = 3 or 4: bytes a bin
  ;; as a power of two): hist[f·span + bin·slots·8] += v[2i] (and the next double += v[2i + 1]).
  (func (export "rowsListed")
    (param $hist i32) (param $bins i32) (param $stride i32) (param $order i32)
    (param $begin i32) (param $end i32) (param $v i32) (param $shift i32) (param $features i32)
    (param $tFrom i32) (param $tTo i32) (param $span i32)
    (local $k i32) (local $i i32) (local $x f64) (local $y f64) (local $row i32) (local $t i32)
    (local $f i32) (local $a i32)
    (local.set $k (local.get $begin))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $i (i32.load (i32.add (local.get $order) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $a (i32.add (local.get $v) (i32.shl (local.get $i) (i32.const 4))))
        (local.set $x (f64.load (local.get $a)))
        (local.set $y (f64.load offset=8 (local.get $a)))
        (local.set $row (i32.add (local.get $bins) (i32.mul (local.get $i) (local.get $stride))))
        (local.set $t (local.get $tFrom))
        (block $feats
          (loop $feat
            (br_if $feats (i32.ge_u (local.get $t) (local.get $tTo)))
            (local.set $f (i32.load (i32.add (local.get $features) (i32.shl (local.get $t) (i32.const 2)))))
            (local.set $a
              (i32.add
                (i32.add (local.get $hist) (i32.mul (local.get $f) (local.get $span)))
                (i32.shl (i32.load8_u (i32.add (local.get $row) (local.get $f))) (local.get $shift))))
            (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $x)))
            (if (i32.eq (local.get $shift) (i32.const 4))
              (then
                (f64.store offset=8 (local.get $a)
                  (f64.add (f64.load offset=8 (local.get $a)) (local.get $y)))))
            (local.set $t (i32.add (local.get $t) (i32.const 1)))
            (br $feat)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))

  ;; One feature's histogram from its column of bins (one byte a row), rows order[begin..end),
  ;; the values gathered by position: hist[bin(order[k])] += v[2k]. Two rows a step.
  (func (export "column1")
    (param $hist i32) (param $column i32) (param $order i32) (param $begin i32) (param $end i32)
    (param $v i32)
    (local $k i32) (local $a i32) (local $b i32) (local $w i32) (local $q i32)
    (local.set $k (local.get $begin))
    (block $pairs
      (loop $pair
        (br_if $pairs (i32.ge_u (i32.add (local.get $k) (i32.const 1)) (local.get $end)))
        (local.set $q (i32.add (local.get $order) (i32.shl (local.get $k) (i32.const 2))))
        (local.set $w (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 4))))
        (local.set $a
          (i32.add (local.get $hist)
            (i32.shl (i32.load8_u (i32.add (local.get $column) (i32.load (local.get $q)))) (i32.const 3))))
        (local.set $b
          (i32.add (local.get $hist)
            (i32.shl (i32.load8_u (i32.add (local.get $column) (i32.load offset=4 (local.get $q)))) (i32.const 3))))
        (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (f64.load (local.get $w))))
        (f64.store (local.get $b) (f64.add (f64.load (local.get $b)) (f64.load offset=16 (local.get $w))))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $pair)))
    (if (i32.lt_u (local.get $k) (local.get $end))
      (then
        (local.set $a
          (i32.add (local.get $hist)
            (i32.shl
              (i32.load8_u
                (i32.add (local.get $column)
                  (i32.load (i32.add (local.get $order) (i32.shl (local.get $k) (i32.const 2))))))
              (i32.const 3))))
        (f64.store (local.get $a)
          (f64.add (f64.load (local.get $a))
            (f64.load (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 4)))))))))

  ;; As column1, two slots: hist[2·bin] += v[2k], hist[2·bin + 1] += v[2k + 1].
  (func (export "column2")
    (param $hist i32) (param $column i32) (param $order i32) (param $begin i32) (param $end i32)
    (param $v i32)
    (local $k i32) (local $a i32) (local $w i32)
    (local.set $k (local.get $begin))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $w (i32.add (local.get $v) (i32.shl (local.get $k) (i32.const 4))))
        (local.set $a
          (i32.add (local.get $hist)
            (i32.shl
              (i32.load8_u
                (i32.add (local.get $column)
                  (i32.load (i32.add (local.get $order) (i32.shl (local.get $k) (i32.const 2))))))
              (i32.const 4))))
        (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (f64.load (local.get $w))))
        (f64.store offset=8 (local.get $a) (f64.add (f64.load offset=8 (local.get $a)) (f64.load offset=8 (local.get $w))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))
;; Copies the bins of rows order[begin..end) (`stride` bytes each, a multiple of 16) from
  ;; `source` (by row) to `work` (by position), 16 bytes at a time, and their values from `ghRow`
  ;; to `gh` (the gradient only with $both = 0): histogram.ts gatherRows.
  (func (export "gatherRows")
    (param $order i32) (param $source i32) (param $ghRow i32) (param $work i32) (param $gh i32)
    (param $stride i32) (param $both i32) (param $begin i32) (param $end i32)
    (local $k i32) (local $i i32) (local $from i32) (local $to i32) (local $stop i32)
    (local.set $k (local.get $begin))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $i (i32.load (i32.add (local.get $order) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $from (i32.add (local.get $source) (i32.mul (local.get $i) (local.get $stride))))
        (local.set $to (i32.add (local.get $work) (i32.mul (local.get $k) (local.get $stride))))
        (local.set $stop (i32.add (local.get $from) (local.get $stride)))
        (block $copied
          (loop $copy
            (br_if $copied (i32.ge_u (local.get $from) (local.get $stop)))
            (v128.store (local.get $to) (v128.load (local.get $from)))
            (local.set $from (i32.add (local.get $from) (i32.const 16)))
            (local.set $to (i32.add (local.get $to) (i32.const 16)))
            (br $copy)))
        (if (local.get $both)
          (then
            (v128.store (i32.add (local.get $gh) (i32.shl (local.get $k) (i32.const 4)))
              (v128.load (i32.add (local.get $ghRow) (i32.shl (local.get $i) (i32.const 4))))))
          (else
            (f64.store (i32.add (local.get $gh) (i32.shl (local.get $k) (i32.const 4)))
              (f64.load (i32.add (local.get $ghRow) (i32.shl (local.get $i) (i32.const 4)))))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows))))

  ;; Stable partition of rows order[begin..end) by goLeft[column[row]] (0 or 1): lefts compacted in
  ;; place from begin, rights written to right[0..); returns the number of lefts. Branch-free, as
  ;; histogram.ts partitionRows.
  (func (export "partitionRows")
    (param $order i32) (param $column i32) (param $goLeft i32) (param $begin i32) (param $end i32)
    (param $right i32) (result i32)
    (local $k i32) (local $i i32) (local $left i32) (local $wl i32) (local $wr i32)
    (local.set $k (local.get $begin))
    (local.set $wl (i32.add (local.get $order) (i32.shl (local.get $begin) (i32.const 2))))
    (local.set $wr (local.get $right))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $i (i32.load (i32.add (local.get $order) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $left
          (i32.load8_u (i32.add (local.get $goLeft) (i32.load8_u (i32.add (local.get $column) (local.get $i))))))
        (i32.store (local.get $wl) (local.get $i))
        (i32.store (local.get $wr) (local.get $i))
        (local.set $wl (i32.add (local.get $wl) (i32.shl (local.get $left) (i32.const 2))))
        (local.set $wr (i32.add (local.get $wr) (i32.shl (i32.sub (i32.const 1) (local.get $left)) (i32.const 2))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rows)))
    (i32.shr_u
      (i32.sub (local.get $wl) (i32.add (local.get $order) (i32.shl (local.get $begin) (i32.const 2))))
      (i32.const 2)))
)

;; The CSV record scanner of src/records.ts, 64 bytes at a time with WebAssembly SIMD.
;;
;; Same rules as `step()` there (RFC 4180): a line feed outside quotes ends a record unless the
;; record is empty, and a carriage return outside quotes is not content. Instead of a byte loop,
;; each 64-byte block becomes three bit masks (quotes, line feeds, carriage returns):
;;
;; - inside quotes = prefix XOR of the quote mask (each quote flips the state; a doubled quote
;;   flips it twice), XOR the state carried in from the previous block;
;; - E, the line feeds that end a line = line feeds not inside quotes;
;; - a line is blank when the byte before its E, skipping carriage returns, is an E too (or the
;;   start of the file): R marks every position whose previous non-CR byte is an E, by adding
;;   1 at the start of each CR run that follows an E and letting the carry run to its end.
;;
;; records ended = popcount(E) - popcount(E & R).
;;
;; scan(len, state) reads bytes [0, len) of memory, len a multiple of 64, and returns
;; (records ended << 2) | state, where state is records.ts's: bit 0 inside quotes, bit 1 the
;; current record is still empty.
(module
  (memory (export "memory") 5)
  (func (export "scan") (param $len i32) (param $state i32) (result i32)
    (local $i i32)
    (local $records i32)
    (local $inq i64)
    (local $pend i64)
    (local $q i64)
    (local $lf i64)
    (local $cr i64)
    (local $x i64)
    (local $e i64)
    (local $t i64)
    (local $r i64)
    (local $v0 v128)
    (local $v1 v128)
    (local $v2 v128)
    (local $v3 v128)
    ;; inq is all ones inside quotes, so that it XORs a whole mask.
    (local.set $inq (i64.sub (i64.const 0) (i64.extend_i32_u (i32.and (local.get $state) (i32.const 1)))))
    (local.set $pend (i64.extend_i32_u (i32.and (i32.shr_u (local.get $state) (i32.const 1)) (i32.const 1))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $v0 (v128.load offset=0 (local.get $i)))
        (local.set $v1 (v128.load offset=16 (local.get $i)))
        (local.set $v2 (v128.load offset=32 (local.get $i)))
        (local.set $v3 (v128.load offset=48 (local.get $i)))
        (local.set $q
          (call $mask (local.get $v0) (local.get $v1) (local.get $v2) (local.get $v3) (i8x16.splat (i32.const 0x22))))
        (local.set $lf
          (call $mask (local.get $v0) (local.get $v1) (local.get $v2) (local.get $v3) (i8x16.splat (i32.const 0x0a))))
        (local.set $cr
          (call $mask (local.get $v0) (local.get $v1) (local.get $v2) (local.get $v3) (i8x16.splat (i32.const 0x0d))))
        ;; Prefix XOR: bit n becomes the XOR of quote bits 0..n.
        (local.set $x (local.get $q))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 1))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 2))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 4))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 8))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 16))))
        (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 32))))
        (local.set $x (i64.xor (local.get $x) (local.get $inq)))
        (local.set $inq (i64.shr_s (local.get $x) (i64.const 63)))
        (local.set $e (i64.and (local.get $lf) (i64.xor (local.get $x) (i64.const -1))))
        (local.set $t (i64.or (i64.shl (local.get $e) (i64.const 1)) (local.get $pend)))
        (local.set $r
          (i64.or
            (i64.xor
              (i64.add (i64.and (local.get $t) (local.get $cr)) (local.get $cr))
              (local.get $cr))
            (i64.and (local.get $t) (i64.xor (local.get $cr) (i64.const -1)))))
        (local.set $records
          (i32.add
            (local.get $records)
            (i32.wrap_i64
              (i64.sub
                (i64.popcnt (local.get $e))
                (i64.popcnt (i64.and (local.get $e) (local.get $r)))))))
        ;; Still empty after the block: it ends with an E, or with a CR run that follows one.
        (local.set $pend
          (i64.shr_u
            (i64.or (local.get $e) (i64.and (local.get $r) (local.get $cr)))
            (i64.const 63)))
        (local.set $i (i32.add (local.get $i) (i32.const 64)))
        (br $block)))
    (i32.or
      (i32.shl (local.get $records) (i32.const 2))
      (i32.or
        (i32.wrap_i64 (i64.and (local.get $inq) (i64.const 1)))
        (i32.shl (i32.wrap_i64 (local.get $pend)) (i32.const 1)))))

  ;; Bit n set where byte n of the 64 equals the byte in every lane of $needle.
  (func $mask (param $v0 v128) (param $v1 v128) (param $v2 v128) (param $v3 v128) (param $needle v128) (result i64)
    (i64.or
      (i64.or
        (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $needle))))
        (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v1) (local.get $needle)))) (i64.const 16)))
      (i64.or
        (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v2) (local.get $needle)))) (i64.const 32))
        (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $v3) (local.get $needle)))) (i64.const 48))))))

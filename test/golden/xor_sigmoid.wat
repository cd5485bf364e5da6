(module $bpgen
  (type (;0;) (func (param i32 i32)))
  (type (;1;) (func (param v128) (result v128)))
  (type (;2;) (func (param f32) (result f32)))
  (type (;3;) (func (param i32 i32) (result f64)))
  (type (;4;) (func (param f64) (result f64)))
  (type (;5;) (func (param f64)))
  (func $forward (type 0) (param $batch i32) (param $capacity i32)
    (local $batch_n f64) (local $out_at i32) (local $b2 f64) (local $s i32) (local $i i32) (local $t2 f64) (local $z2 f64)
    local.get $batch
    f64.convert_i32_s
    local.set $batch_n
    local.get $capacity
    i32.const 12
    i32.mul
    local.set $out_at
    i32.const 0
    f32.load offset=64
    f64.promote_f32
    local.set $b2
    i32.const 0
    local.set $s
    loop  ;; label = @1
      i32.const 0
      i32.const 0
      f32.load
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=4
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=160
      i32.const 0
      i32.const 0
      f32.load offset=8
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=12
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=164
      i32.const 0
      i32.const 0
      f32.load offset=16
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=20
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=168
      i32.const 0
      i32.const 0
      f32.load offset=24
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=28
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=172
      i32.const 0
      local.set $i
      loop  ;; label = @2
        local.get $i
        i32.const 4
        i32.mul
        local.get $i
        i32.const 4
        i32.mul
        v128.load offset=160 align=4
        local.get $i
        i32.const 4
        i32.mul
        v128.load offset=32 align=4
        f32x4.add
        call $math.sigmoid.f32x4
        v128.store offset=176 align=4
        local.get $i
        i32.const 4
        i32.add
        local.tee $i
        i32.const 4
        i32.lt_s
        br_if 0 (;@2;)
      end
      i32.const 0
      f32.load offset=48
      f64.promote_f32
      i32.const 0
      f32.load offset=176
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=52
      f64.promote_f32
      i32.const 0
      f32.load offset=180
      f64.promote_f32
      f64.mul
      f64.add
      i32.const 0
      f32.load offset=56
      f64.promote_f32
      i32.const 0
      f32.load offset=184
      f64.promote_f32
      f64.mul
      f64.add
      i32.const 0
      f32.load offset=60
      f64.promote_f32
      i32.const 0
      f32.load offset=188
      f64.promote_f32
      f64.mul
      f64.add
      local.set $t2
      local.get $t2
      local.get $b2
      f64.add
      local.set $z2
      local.get $out_at
      local.get $s
      i32.const 4
      i32.mul
      i32.add
      local.get $z2
      f32.demote_f64
      call $math.sigmoid.f32
      f64.promote_f32
      f32.demote_f64
      f32.store offset=208
      local.get $s
      i32.const 1
      i32.add
      local.tee $s
      local.get $batch
      i32.lt_s
      br_if 0 (;@1;)
    end)
  (func $math.sigmoid.f32x4 (type 1) (param $x v128) (result v128)
    (local $t v128) (local $t_1 v128) (local $t_2 v128) (local $t_3 v128) (local $t_4 v128) (local $t_5 v128) (local $t_6 v128) (local $t_7 v128) (local $t_8 v128) (local $t_9 v128)
    v128.const i32x4 0x3f800000 0x3f800000 0x3f800000 0x3f800000
    local.get $x
    f32x4.abs
    f32x4.neg
    v128.const i32x4 0xc2d00000 0xc2d00000 0xc2d00000 0xc2d00000
    f32x4.pmax
    v128.const i32x4 0x42b20000 0x42b20000 0x42b20000 0x42b20000
    f32x4.pmin
    local.tee $t
    local.get $t
    v128.const i32x4 0x3fb8aa3b 0x3fb8aa3b 0x3fb8aa3b 0x3fb8aa3b
    f32x4.mul
    v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000
    f32x4.add
    local.tee $t_1
    v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000
    f32x4.sub
    local.tee $t_2
    v128.const i32x4 0x3f318000 0x3f318000 0x3f318000 0x3f318000
    f32x4.mul
    f32x4.sub
    local.get $t_2
    v128.const i32x4 0xb95e8083 0xb95e8083 0xb95e8083 0xb95e8083
    f32x4.mul
    f32x4.sub
    local.tee $t_3
    local.get $t_3
    local.get $t_3
    f32x4.mul
    v128.const i32x4 0x3ab5121a 0x3ab5121a 0x3ab5121a 0x3ab5121a
    local.get $t_3
    f32x4.mul
    v128.const i32x4 0x3c091cf1 0x3c091cf1 0x3c091cf1 0x3c091cf1
    f32x4.add
    local.get $t_3
    f32x4.mul
    v128.const i32x4 0x3d2aac79 0x3d2aac79 0x3d2aac79 0x3d2aac79
    f32x4.add
    local.get $t_3
    f32x4.mul
    v128.const i32x4 0x3e2aaa49 0x3e2aaa49 0x3e2aaa49 0x3e2aaa49
    f32x4.add
    local.get $t_3
    f32x4.mul
    v128.const i32x4 0x3efffffe 0x3efffffe 0x3efffffe 0x3efffffe
    f32x4.add
    f32x4.mul
    f32x4.add
    v128.const i32x4 0x3f800000 0x3f800000 0x3f800000 0x3f800000
    f32x4.add
    local.get $t_1
    v128.const i32x4 0x4b400000 0x4b400000 0x4b400000 0x4b400000
    i32x4.sub
    local.tee $t_4
    i32.const 1
    i32x4.shr_s
    local.tee $t_5
    v128.const i32x4 0x0000007f 0x0000007f 0x0000007f 0x0000007f
    i32x4.add
    i32.const 23
    i32x4.shl
    f32x4.mul
    local.get $t_4
    local.get $t_5
    i32x4.sub
    v128.const i32x4 0x0000007f 0x0000007f 0x0000007f 0x0000007f
    i32x4.add
    i32.const 23
    i32x4.shl
    f32x4.mul
    local.tee $t_6
    local.get $x
    v128.const i32x4 0x00000000 0x00000000 0x00000000 0x00000000
    f32x4.ge
    local.tee $t_7
    v128.bitselect
    local.get $t_6
    v128.const i32x4 0x3f800000 0x3f800000 0x3f800000 0x3f800000
    f32x4.add
    local.tee $t_8
    f32x4.div
    local.tee $t_9
    local.get $t_9
    local.get $t_6
    local.get $t_8
    v128.const i32x4 0x3f800000 0x3f800000 0x3f800000 0x3f800000
    f32x4.sub
    f32x4.sub
    f32x4.mul
    local.get $t_9
    v128.const i32x4 0x3f800000 0x3f800000 0x3f800000 0x3f800000
    local.get $t_9
    f32x4.sub
    local.get $t_7
    v128.bitselect
    f32x4.mul
    f32x4.sub)
  (func $math.sigmoid.f32 (type 2) (param $x f32) (result f32)
    (local $t f32) (local $t_1 f32) (local $t_2 f32) (local $t_3 f32) (local $t_4 f32) (local $t_5 f32) (local $t_6 i32) (local $t_7 i32) (local $t_8 f32) (local $t_9 i32) (local $t_10 f32) (local $t_11 f32)
    f32.const 0x1p+0 (;=1;)
    f32.const 0x1.64p+6 (;=89;)
    f32.const -0x1.ap+6 (;=-104;)
    local.get $x
    f32.abs
    f32.neg
    local.tee $t
    local.get $t
    f32.const -0x1.ap+6 (;=-104;)
    f32.lt
    select
    local.tee $t_1
    f32.const 0x1.64p+6 (;=89;)
    local.get $t_1
    f32.lt
    select
    local.tee $t_2
    local.get $t_2
    f32.const 0x1.715476p+0 (;=1.4427;)
    f32.mul
    f32.const 0x1.8p+23 (;=1.25829e+07;)
    f32.add
    local.tee $t_3
    f32.const 0x1.8p+23 (;=1.25829e+07;)
    f32.sub
    local.tee $t_4
    f32.const 0x1.63p-1 (;=0.693359;)
    f32.mul
    f32.sub
    local.get $t_4
    f32.const -0x1.bd0106p-13 (;=-0.000212194;)
    f32.mul
    f32.sub
    local.tee $t_5
    local.get $t_5
    local.get $t_5
    f32.mul
    f32.const 0x1.6a2434p-10 (;=0.00138146;)
    local.get $t_5
    f32.mul
    f32.const 0x1.1239e2p-7 (;=0.00836872;)
    f32.add
    local.get $t_5
    f32.mul
    f32.const 0x1.5558f2p-5 (;=0.0416684;)
    f32.add
    local.get $t_5
    f32.mul
    f32.const 0x1.555492p-3 (;=0.166665;)
    f32.add
    local.get $t_5
    f32.mul
    f32.const 0x1.fffffcp-2 (;=0.5;)
    f32.add
    f32.mul
    f32.add
    f32.const 0x1p+0 (;=1;)
    f32.add
    local.get $t_3
    i32.reinterpret_f32
    i32.const 1262485504
    i32.sub
    local.tee $t_6
    i32.const 1
    i32.shr_s
    local.tee $t_7
    i32.const 127
    i32.add
    i32.const 23
    i32.shl
    f32.reinterpret_i32
    f32.mul
    local.get $t_6
    local.get $t_7
    i32.sub
    i32.const 127
    i32.add
    i32.const 23
    i32.shl
    f32.reinterpret_i32
    f32.mul
    local.tee $t_8
    local.get $x
    f32.const 0x0p+0 (;=0;)
    f32.ge
    local.tee $t_9
    select
    local.get $t_8
    f32.const 0x1p+0 (;=1;)
    f32.add
    local.tee $t_10
    f32.div
    local.tee $t_11
    local.get $t_11
    local.get $t_8
    local.get $t_10
    f32.const 0x1p+0 (;=1;)
    f32.sub
    f32.sub
    f32.mul
    local.get $t_11
    f32.const 0x1p+0 (;=1;)
    local.get $t_11
    f32.sub
    local.get $t_9
    select
    f32.mul
    f32.sub)
  (func $loss (type 3) (param $batch i32) (param $capacity i32) (result f64)
    (local $batch_n f64) (local $targets_at i32) (local $b2 f64) (local $meanL f64) (local $s i32) (local $y f64) (local $i i32) (local $t2 f64) (local $z2 f64) (local $invB f64)
    local.get $batch
    f64.convert_i32_s
    local.set $batch_n
    local.get $capacity
    i32.const 8
    i32.mul
    local.set $targets_at
    i32.const 0
    f32.load offset=64
    f64.promote_f32
    local.set $b2
    f64.const 0x0p+0 (;=0;)
    local.set $meanL
    i32.const 0
    local.set $s
    loop  ;; label = @1
      local.get $targets_at
      local.get $s
      i32.const 4
      i32.mul
      i32.add
      f32.load offset=208
      f64.promote_f32
      local.set $y
      i32.const 0
      i32.const 0
      f32.load
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=4
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=160
      i32.const 0
      i32.const 0
      f32.load offset=8
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=12
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=164
      i32.const 0
      i32.const 0
      f32.load offset=16
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=20
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=168
      i32.const 0
      i32.const 0
      f32.load offset=24
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=28
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=172
      i32.const 0
      local.set $i
      loop  ;; label = @2
        local.get $i
        i32.const 4
        i32.mul
        local.get $i
        i32.const 4
        i32.mul
        v128.load offset=160 align=4
        local.get $i
        i32.const 4
        i32.mul
        v128.load offset=32 align=4
        f32x4.add
        call $math.sigmoid.f32x4
        v128.store offset=176 align=4
        local.get $i
        i32.const 4
        i32.add
        local.tee $i
        i32.const 4
        i32.lt_s
        br_if 0 (;@2;)
      end
      i32.const 0
      f32.load offset=48
      f64.promote_f32
      i32.const 0
      f32.load offset=176
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=52
      f64.promote_f32
      i32.const 0
      f32.load offset=180
      f64.promote_f32
      f64.mul
      f64.add
      i32.const 0
      f32.load offset=56
      f64.promote_f32
      i32.const 0
      f32.load offset=184
      f64.promote_f32
      f64.mul
      f64.add
      i32.const 0
      f32.load offset=60
      f64.promote_f32
      i32.const 0
      f32.load offset=188
      f64.promote_f32
      f64.mul
      f64.add
      local.set $t2
      local.get $t2
      local.get $b2
      f64.add
      local.set $z2
      local.get $meanL
      local.get $z2
      call $math.softplus.f64
      local.get $y
      local.get $z2
      f64.mul
      f64.sub
      f64.add
      local.set $meanL
      local.get $s
      i32.const 1
      i32.add
      local.tee $s
      local.get $batch
      i32.lt_s
      br_if 0 (;@1;)
    end
    f64.const 0x1p+0 (;=1;)
    local.get $batch_n
    f64.div
    local.set $invB
    local.get $meanL
    local.get $invB
    f64.mul
    local.set $meanL
    local.get $meanL
    return)
  (func $math.softplus.f64 (type 4) (param $x f64) (result f64)
    (local $t f64) (local $t_1 f64) (local $t_2 f64) (local $t_3 f64) (local $t_4 f64) (local $t_5 f64) (local $t_6 i64) (local $t_7 i64) (local $t_8 f64) (local $t_9 f64) (local $t_10 i64) (local $t_11 f64) (local $t_12 f64) (local $t_13 f64) (local $t_14 f64) (local $t_15 f64)
    f64.const 0x0p+0 (;=0;)
    local.get $x
    local.get $x
    f64.const 0x0p+0 (;=0;)
    f64.lt
    select
    f64.const 0x1.63p+9 (;=710;)
    f64.const -0x1.75p+9 (;=-746;)
    local.get $x
    f64.abs
    f64.neg
    local.tee $t
    local.get $t
    f64.const -0x1.75p+9 (;=-746;)
    f64.lt
    select
    local.tee $t_1
    f64.const 0x1.63p+9 (;=710;)
    local.get $t_1
    f64.lt
    select
    local.tee $t_2
    local.get $t_2
    f64.const 0x1.71547652b82fep+0 (;=1.4427;)
    f64.mul
    f64.const 0x1.8p+52 (;=6.7554e+15;)
    f64.add
    local.tee $t_3
    f64.const 0x1.8p+52 (;=6.7554e+15;)
    f64.sub
    local.tee $t_4
    f64.const 0x1.62e42feep-1 (;=0.693147;)
    f64.mul
    f64.sub
    local.get $t_4
    f64.const 0x1.a39ef35793c76p-33 (;=1.90821e-10;)
    f64.mul
    f64.sub
    local.tee $t_5
    local.get $t_5
    local.get $t_5
    f64.mul
    f64.const 0x1.ad7f6f0799ee2p-26 (;=2.50001e-08;)
    local.get $t_5
    f64.mul
    f64.const 0x1.28ad72cc30daap-22 (;=2.76302e-07;)
    f64.add
    local.get $t_5
    f64.mul
    f64.const 0x1.71df2552390c2p-19 (;=2.75576e-06;)
    f64.add
    local.get $t_5
    f64.mul
    f64.const 0x1.a0199a0c677acp-16 (;=2.48015e-05;)
    f64.add
    local.get $t_5
    f64.mul
    f64.const 0x1.a01a012a57b51p-13 (;=0.000198413;)
    f64.add
    local.get $t_5
    f64.mul
    f64.const 0x1.6c16c1842a11dp-10 (;=0.00138889;)
    f64.add
    local.get $t_5
    f64.mul
    f64.const 0x1.1111111127be5p-7 (;=0.00833333;)
    f64.add
    local.get $t_5
    f64.mul
    f64.const 0x1.555555555087cp-5 (;=0.0416667;)
    f64.add
    local.get $t_5
    f64.mul
    f64.const 0x1.55555555554fap-3 (;=0.166667;)
    f64.add
    local.get $t_5
    f64.mul
    f64.const 0x1.000000000000ap-1 (;=0.5;)
    f64.add
    f64.mul
    f64.add
    f64.const 0x1p+0 (;=1;)
    f64.add
    local.get $t_3
    i64.reinterpret_f64
    i64.const 4843621399236968448
    i64.sub
    local.tee $t_6
    i64.const 1
    i64.shr_s
    local.tee $t_7
    i64.const 1023
    i64.add
    i64.const 52
    i64.shl
    f64.reinterpret_i64
    f64.mul
    local.get $t_6
    local.get $t_7
    i64.sub
    i64.const 1023
    i64.add
    i64.const 52
    i64.shl
    f64.reinterpret_i64
    f64.mul
    local.tee $t_8
    local.get $t_8
    f64.const 0x1p+0 (;=1;)
    f64.add
    local.tee $t_9
    i64.reinterpret_f64
    i64.const 2638147582215219
    i64.add
    local.tee $t_10
    i64.const 52
    i64.shr_s
    i64.const 1023
    i64.sub
    f64.convert_i64_s
    local.tee $t_11
    f64.const 0x1.62e42feep-1 (;=0.693147;)
    f64.mul
    local.get $t_10
    i64.const 4503599627370495
    i64.and
    i64.const 4604544271217802189
    i64.add
    f64.reinterpret_i64
    f64.const 0x1p+0 (;=1;)
    f64.sub
    local.tee $t_12
    local.get $t_12
    f64.mul
    f64.const 0x1p-1 (;=0.5;)
    f64.mul
    local.tee $t_13
    local.get $t_12
    local.get $t_12
    f64.const 0x1p+1 (;=2;)
    f64.add
    f64.div
    local.tee $t_14
    local.get $t_13
    local.get $t_14
    local.get $t_14
    f64.mul
    local.tee $t_15
    f64.const 0x1.2fa8fa084dedcp-3 (;=0.148272;)
    local.get $t_15
    f64.mul
    f64.const 0x1.39921d7871959p-3 (;=0.153111;)
    f64.add
    local.get $t_15
    f64.mul
    f64.const 0x1.7466d3382a6cep-3 (;=0.181837;)
    f64.add
    local.get $t_15
    f64.mul
    f64.const 0x1.c71c4f591f2ep-3 (;=0.222222;)
    f64.add
    local.get $t_15
    f64.mul
    f64.const 0x1.2492494511eddp-2 (;=0.285714;)
    f64.add
    local.get $t_15
    f64.mul
    f64.const 0x1.999999997c8b3p-2 (;=0.4;)
    f64.add
    local.get $t_15
    f64.mul
    f64.const 0x1.555555555559cp-1 (;=0.666667;)
    f64.add
    f64.mul
    f64.add
    f64.mul
    local.get $t_11
    f64.const 0x1.a39ef35793c76p-33 (;=1.90821e-10;)
    f64.mul
    local.get $t_9
    local.get $t_8
    f64.sub
    f64.neg
    f64.const 0x1p+0 (;=1;)
    f64.add
    local.get $t_8
    local.get $t_9
    f64.const 0x1p+0 (;=1;)
    f64.sub
    f64.sub
    local.get $t_9
    f64.const 0x1p+1 (;=2;)
    f64.ge
    select
    local.get $t_9
    f64.div
    f64.add
    f64.add
    f64.sub
    local.get $t_12
    f64.sub
    f64.sub
    f64.const -inf (;=-inf;)
    f64.const nan (;=nan;)
    local.get $t_9
    local.get $t_9
    f64.const 0x0p+0 (;=0;)
    f64.lt
    select
    local.get $t_9
    f64.const 0x0p+0 (;=0;)
    f64.eq
    select
    local.get $t_9
    f64.const 0x0p+0 (;=0;)
    f64.gt
    local.get $t_9
    f64.const inf (;=inf;)
    f64.lt
    i32.and
    select
    local.get $t_8
    f64.const 0x0p+0 (;=0;)
    f64.eq
    select
    f64.add)
  (func $gradient (type 3) (param $batch i32) (param $capacity i32) (result f64)
    (local $batch_n f64) (local $targets_at i32) (local $b2 f64) (local $meanL f64) (local $d_b2 f64) (local $s i32) (local $y f64) (local $i i32) (local $t2 f64) (local $z2 f64) (local $a2 f64) (local $d_z2 f64) (local $i_1 i32) (local $i_2 i32) (local $i_3 i32) (local $i_4 i32) (local $invB f64) (local $i_5 i32)
    local.get $batch
    f64.convert_i32_s
    local.set $batch_n
    local.get $capacity
    i32.const 8
    i32.mul
    local.set $targets_at
    i32.const 0
    f32.load offset=64
    f64.promote_f32
    local.set $b2
    i32.const 0
    i32.const 80
    i32.add
    i32.const 0
    i32.const 64
    memory.fill
    f64.const 0x0p+0 (;=0;)
    local.set $meanL
    f64.const 0x0p+0 (;=0;)
    local.set $d_b2
    i32.const 0
    local.set $s
    loop  ;; label = @1
      local.get $targets_at
      local.get $s
      i32.const 4
      i32.mul
      i32.add
      f32.load offset=208
      f64.promote_f32
      local.set $y
      i32.const 0
      i32.const 0
      f32.load
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=4
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=160
      i32.const 0
      i32.const 0
      f32.load offset=8
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=12
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=164
      i32.const 0
      i32.const 0
      f32.load offset=16
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=20
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=168
      i32.const 0
      i32.const 0
      f32.load offset=24
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=28
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=172
      i32.const 0
      local.set $i
      loop  ;; label = @2
        local.get $i
        i32.const 4
        i32.mul
        local.get $i
        i32.const 4
        i32.mul
        v128.load offset=160 align=4
        local.get $i
        i32.const 4
        i32.mul
        v128.load offset=32 align=4
        f32x4.add
        call $math.sigmoid.f32x4
        v128.store offset=176 align=4
        local.get $i
        i32.const 4
        i32.add
        local.tee $i
        i32.const 4
        i32.lt_s
        br_if 0 (;@2;)
      end
      i32.const 0
      f32.load offset=48
      f64.promote_f32
      i32.const 0
      f32.load offset=176
      f64.promote_f32
      f64.mul
      i32.const 0
      f32.load offset=52
      f64.promote_f32
      i32.const 0
      f32.load offset=180
      f64.promote_f32
      f64.mul
      f64.add
      i32.const 0
      f32.load offset=56
      f64.promote_f32
      i32.const 0
      f32.load offset=184
      f64.promote_f32
      f64.mul
      f64.add
      i32.const 0
      f32.load offset=60
      f64.promote_f32
      i32.const 0
      f32.load offset=188
      f64.promote_f32
      f64.mul
      f64.add
      local.set $t2
      local.get $t2
      local.get $b2
      f64.add
      local.set $z2
      local.get $z2
      f32.demote_f64
      call $math.sigmoid.f32
      f64.promote_f32
      local.set $a2
      local.get $meanL
      local.get $z2
      call $math.softplus.f64
      local.get $y
      local.get $z2
      f64.mul
      f64.sub
      f64.add
      local.set $meanL
      local.get $a2
      local.get $y
      f64.sub
      local.set $d_z2
      local.get $d_b2
      local.get $d_z2
      f64.add
      local.set $d_b2
      i32.const 0
      local.set $i_1
      loop  ;; label = @2
        local.get $i_1
        i32.const 4
        i32.mul
        local.get $i_1
        i32.const 4
        i32.mul
        v128.load64_zero offset=128 align=4
        f64x2.promote_low_f32x4
        local.get $d_z2
        f64x2.splat
        local.get $i_1
        i32.const 4
        i32.mul
        v128.load64_zero offset=176 align=4
        f64x2.promote_low_f32x4
        f64x2.mul
        f64x2.add
        f32x4.demote_f64x2_zero
        v128.store64_lane offset=128 align=4 0
        local.get $i_1
        i32.const 2
        i32.add
        local.tee $i_1
        i32.const 4
        i32.lt_s
        br_if 0 (;@2;)
      end
      i32.const 0
      local.set $i_2
      loop  ;; label = @2
        local.get $i_2
        i32.const 4
        i32.mul
        local.get $i_2
        i32.const 4
        i32.mul
        v128.load64_zero offset=48 align=4
        f64x2.promote_low_f32x4
        local.get $d_z2
        f64x2.splat
        f64x2.mul
        f32x4.demote_f64x2_zero
        v128.store64_lane offset=160 align=4 0
        local.get $i_2
        i32.const 2
        i32.add
        local.tee $i_2
        i32.const 4
        i32.lt_s
        br_if 0 (;@2;)
      end
      i32.const 0
      local.set $i_3
      loop  ;; label = @2
        local.get $i_3
        i32.const 4
        i32.mul
        local.get $i_3
        i32.const 4
        i32.mul
        v128.load64_zero offset=160 align=4
        f64x2.promote_low_f32x4
        local.get $i_3
        i32.const 4
        i32.mul
        v128.load64_zero offset=176 align=4
        f64x2.promote_low_f32x4
        v128.const i32x4 0x00000000 0x3ff00000 0x00000000 0x3ff00000
        local.get $i_3
        i32.const 4
        i32.mul
        v128.load64_zero offset=176 align=4
        f64x2.promote_low_f32x4
        f64x2.sub
        f64x2.mul
        f64x2.mul
        f32x4.demote_f64x2_zero
        v128.store64_lane offset=192 align=4 0
        local.get $i_3
        i32.const 2
        i32.add
        local.tee $i_3
        i32.const 4
        i32.lt_s
        br_if 0 (;@2;)
      end
      i32.const 0
      local.set $i_4
      loop  ;; label = @2
        local.get $i_4
        i32.const 4
        i32.mul
        local.get $i_4
        i32.const 4
        i32.mul
        v128.load offset=112 align=4
        local.get $i_4
        i32.const 4
        i32.mul
        v128.load offset=192 align=4
        f32x4.add
        v128.store offset=112 align=4
        local.get $i_4
        i32.const 4
        i32.add
        local.tee $i_4
        i32.const 4
        i32.lt_s
        br_if 0 (;@2;)
      end
      i32.const 0
      i32.const 0
      f32.load offset=80
      f64.promote_f32
      i32.const 0
      f32.load offset=192
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=80
      i32.const 0
      i32.const 0
      f32.load offset=84
      f64.promote_f32
      i32.const 0
      f32.load offset=192
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=84
      i32.const 0
      i32.const 0
      f32.load offset=88
      f64.promote_f32
      i32.const 0
      f32.load offset=196
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=88
      i32.const 0
      i32.const 0
      f32.load offset=92
      f64.promote_f32
      i32.const 0
      f32.load offset=196
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=92
      i32.const 0
      i32.const 0
      f32.load offset=96
      f64.promote_f32
      i32.const 0
      f32.load offset=200
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=96
      i32.const 0
      i32.const 0
      f32.load offset=100
      f64.promote_f32
      i32.const 0
      f32.load offset=200
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=100
      i32.const 0
      i32.const 0
      f32.load offset=104
      f64.promote_f32
      i32.const 0
      f32.load offset=204
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=208
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=104
      i32.const 0
      i32.const 0
      f32.load offset=108
      f64.promote_f32
      i32.const 0
      f32.load offset=204
      f64.promote_f32
      local.get $s
      i32.const 8
      i32.mul
      f32.load offset=212
      f64.promote_f32
      f64.mul
      f64.add
      f32.demote_f64
      f32.store offset=108
      local.get $s
      i32.const 1
      i32.add
      local.tee $s
      local.get $batch
      i32.lt_s
      br_if 0 (;@1;)
    end
    f64.const 0x1p+0 (;=1;)
    local.get $batch_n
    f64.div
    local.set $invB
    local.get $meanL
    local.get $invB
    f64.mul
    local.set $meanL
    local.get $d_b2
    local.get $invB
    f64.mul
    local.set $d_b2
    local.get $batch
    i32.const 1
    i32.gt_s
    if  ;; label = @1
      i32.const 0
      local.set $i_5
      loop  ;; label = @2
        local.get $i_5
        i32.const 4
        i32.mul
        local.get $i_5
        i32.const 4
        i32.mul
        v128.load64_zero offset=80 align=4
        f64x2.promote_low_f32x4
        local.get $invB
        f64x2.splat
        f64x2.mul
        f32x4.demote_f64x2_zero
        v128.store64_lane offset=80 align=4 0
        local.get $i_5
        i32.const 2
        i32.add
        local.tee $i_5
        i32.const 16
        i32.lt_s
        br_if 0 (;@2;)
      end
    end
    i32.const 0
    local.get $d_b2
    f32.demote_f64
    f32.store offset=144
    local.get $meanL
    return)
  (func $sgdUpdate (type 5) (param $lr f64)
    (local $rate f32) (local $rates v128) (local $at i32)
    local.get $lr
    f32.demote_f64
    local.tee $rate
    f32x4.splat
    local.set $rates
    i32.const 0
    local.set $at
    loop  ;; label = @1
      local.get $at
      local.get $at
      v128.load align=4
      local.get $at
      v128.load offset=80 align=4
      local.get $rates
      f32x4.mul
      f32x4.sub
      v128.store align=4
      local.get $at
      i32.const 16
      i32.add
      local.tee $at
      i32.const 64
      i32.lt_s
      br_if 0 (;@1;)
    end
    i32.const 64
    local.set $at
    local.get $at
    local.get $at
    f32.load
    local.get $at
    f32.load offset=80
    local.get $rate
    f32.mul
    f32.sub
    f32.store)
  (memory (;0;) 1)
  (export "memory" (memory 0))
  (export "forward" (func $forward))
  (export "loss" (func $loss))
  (export "gradient" (func $gradient))
  (export "sgdUpdate" (func $sgdUpdate)))

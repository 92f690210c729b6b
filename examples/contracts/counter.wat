;; A counter contract in WebAssembly text. Build: wat2wasm counter.wat (or wabt in a test).
;; Exports:
;;   init          sets the counter to the u64 in args (8 bytes LE), or 0 without args
;;   increment     adds 1; output: the new value (8 bytes LE)
;;   check_balance output: the contract's own balance (16 bytes LE)
;;   send_funds    args: to (20 bytes) || amount (16 bytes LE); output: transfer's result
;;                 (1 byte: 0 ok, 1 insufficient balance)
(module
  (import "env" "input_size" (func $input_size (result i32)))
  (import "env" "input_read" (func $input_read (param i32)))
  (import "env" "return_data" (func $return_data (param i32 i32)))
  (import "env" "revert" (func $revert (param i32 i32)))
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "self_address" (func $self_address (param i32)))
  (import "env" "get_balance" (func $get_balance (param i32 i32 i32) (result i32)))
  (import "env" "transfer" (func $transfer (param i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; 0: the storage key "count"; 16: the counter (u64); 32: an address; 64: an amount;
  ;; 96: a result byte; 128: the call's args
  (data (i32.const 0) "count")
  (data (i32.const 200) "send_funds: args must be 36 bytes")

  (func (export "init")
    (i64.store (i32.const 16) (i64.const 0))
    (if (i32.eq (call $input_size) (i32.const 8))
      (then
        (call $input_read (i32.const 128))
        (i64.store (i32.const 16) (i64.load (i32.const 128)))))
    (drop (call $storage_write (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 8))))

  (func (export "increment")
    (i64.store (i32.const 16) (i64.const 0))
    (drop (call $storage_read (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 8)))
    (i64.store (i32.const 16) (i64.add (i64.load (i32.const 16)) (i64.const 1)))
    (drop (call $storage_write (i32.const 0) (i32.const 5) (i32.const 16) (i32.const 8)))
    (call $return_data (i32.const 16) (i32.const 8)))

  (func (export "check_balance")
    (call $self_address (i32.const 32))
    (drop (call $get_balance (i32.const 32) (i32.const 20) (i32.const 64)))
    (call $return_data (i32.const 64) (i32.const 16)))

  (func (export "send_funds")
    (if (i32.ne (call $input_size) (i32.const 36))
      (then (call $revert (i32.const 200) (i32.const 33))))
    (call $input_read (i32.const 128))
    (i32.store8 (i32.const 96)
      (call $transfer (i32.const 128) (i32.const 20) (i32.const 148)))
    (call $return_data (i32.const 96) (i32.const 1))))

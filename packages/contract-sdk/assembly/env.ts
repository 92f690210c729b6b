// The host imports of the Aureon contract ABI (module "env"), exactly as HOST_ABI.md declares them.

@external("env", "input_size") export declare function input_size(): i32
@external("env", "input_read") export declare function input_read(ptr: usize): void
@external("env", "return_data") export declare function return_data(ptr: usize, len: i32): void
@external("env", "revert") export declare function revert(msgPtr: usize, msgLen: i32): void
@external("env", "log") export declare function log(ptr: usize, len: i32): void
@external("env", "emit_log") export declare function emit_log(topicsPtr: usize, topicsCount: i32, dataPtr: usize, dataLen: i32): void
@external("env", "get_balance") export declare function get_balance(addrPtr: usize, addrLen: i32, outPtr: usize): i32
@external("env", "transfer") export declare function transfer(toPtr: usize, toLen: i32, amountPtr: usize): i32
@external("env", "storage_read") export declare function storage_read(keyPtr: usize, keyLen: i32, valPtr: usize, maxLen: i32): i32
@external("env", "storage_write") export declare function storage_write(keyPtr: usize, keyLen: i32, valPtr: usize, valLen: i32): i32
@external("env", "storage_remove") export declare function storage_remove(keyPtr: usize, keyLen: i32): i32
@external("env", "block_height") export declare function block_height(): i64
@external("env", "block_timestamp") export declare function block_timestamp(): i64
@external("env", "caller") export declare function caller(outPtr: usize): void
@external("env", "self_address") export declare function self_address(outPtr: usize): void
@external("env", "call_value") export declare function call_value(outPtr: usize): void
@external("env", "sha256") export declare function sha256(dataPtr: usize, dataLen: i32, outPtr: usize): void
@external("env", "gas_left") export declare function gas_left(): i64

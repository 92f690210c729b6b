/** Length of an address in bytes (the first 20 bytes of sha256 of the ed25519 public key). */
export const ADDRESS_LENGTH = 20
/** ed25519 secret key (seed) length. */
export const ED25519_SECRET_KEY_LENGTH = 32
/** ed25519 public key length. */
export const ED25519_PUBLIC_KEY_LENGTH = 32
/** ed25519 signature length (R || S). */
export const ED25519_SIGNATURE_LENGTH = 64
/** BLS12-381 secret key length. */
export const BLS_SECRET_KEY_LENGTH = 32
/** BLS12-381 public key length (compressed G1). */
export const BLS_PUBLIC_KEY_LENGTH = 48
/** BLS12-381 signature length (compressed G2). */
export const BLS_SIGNATURE_LENGTH = 96
/** ECVRF-EDWARDS25519-SHA512-TAI proof length (Gamma 32 || c 16 || s 32). */
export const ECVRF_PROOF_LENGTH = 80
/** ECVRF output (beta) length. */
export const ECVRF_OUTPUT_LENGTH = 64
/** The ed25519 group order L = 2^252 + 27742317777372353535851937790883648493. */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n
/** The ed25519 field prime p = 2^255 - 19. */
export const ED25519_P = 2n ** 255n - 19n

export const keyTypes = ['ed25519', 'bls'] as const
export const defaultKeyType = 'ed25519'

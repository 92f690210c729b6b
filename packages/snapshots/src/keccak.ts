/** keccak256 of the state trie (from @aureon/merkle, the same function the trie uses). */
export { keccak256 } from '@aureon/merkle'

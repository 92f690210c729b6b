import { createStateTree, verifyProof } from '@aureon/merkle'
import { createMemoryStore } from '@aureon/storage'

const utf8 = (s: string) => new TextEncoder().encode(s)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

export async function main(): Promise<string[]> {
  const db = createMemoryStore()
  const tree = await createStateTree({ db }) // Ethereum's secure MPT (keccak256 of each key)
  await tree.batch([
    { type: 'put', key: utf8('alice'), value: utf8('100') },
    { type: 'put', key: utf8('bob'), value: utf8('50') },
  ])

  // A transfer inside a checkpoint, reverted: the root is back where it was.
  const before = tree.root()
  tree.checkpoint()
  await tree.put(utf8('alice'), utf8('90'))
  await tree.revert()
  const same = hex(tree.root()) === hex(before)

  // Nothing is in the store yet: write the trie nodes in YOUR atomic batch with your own data.
  await db.batch([...tree.flush(), { type: 'put', key: utf8('head'), value: tree.root() }])

  // Proofs of inclusion and absence against the root.
  const root = tree.root()
  const bob = await verifyProof({
    root,
    key: utf8('bob'),
    proof: await tree.createProof(utf8('bob')),
  })
  const carol = await verifyProof({
    root,
    key: utf8('carol'),
    proof: await tree.createProof(utf8('carol')),
  })

  // Reopen the committed root from the store alone.
  const reopened = await createStateTree({ db, root: (await db.get(utf8('head')))! })
  const alice = new TextDecoder().decode((await reopened.get(utf8('alice')))!)
  return [
    `root ${hex(root)}`,
    `revert restored root: ${same}`,
    `bob proven: ${new TextDecoder().decode(bob!)}`,
    `carol absent: ${carol === undefined}`,
    `alice after reopen: ${alice}`,
  ]
}

if (import.meta.url === `file://${process.argv[1]}`) console.log((await main()).join('\n'))

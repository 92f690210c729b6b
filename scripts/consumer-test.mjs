// Consumer test: packs every library package, installs the tarballs into a throwaway project
// outside the workspace, imports each one as a user would (ESM) and type-checks the imports with tsc.
import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const work = mkdtempSync(join(tmpdir(), 'aureon-consumer-'))
const run = (cmd, args, cwd) => {
  try {
    return execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString()
  } catch (e) {
    console.error(`consumer: ${cmd} ${args.join(' ')} failed in ${cwd}\n${e.stdout ?? ''}`)
    process.exit(1)
  }
}

const pkgs = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((d) => existsSync(join(d, 'package.json')))
  .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter((p) => !p.json.private && p.json.exports?.['.']?.types)

const tarballs = {}
for (const p of pkgs) {
  const out = run('pnpm', ['pack', '--pack-destination', work], p.dir).trim().split('\n').pop()
  tarballs[p.json.name] = `file:${out.startsWith('/') ? out : join(work, out)}`
}
const project = join(work, 'consumer')
mkdirSync(project)
writeFileSync(
  join(project, 'package.json'),
  JSON.stringify(
    {
      name: 'consumer',
      private: true,
      type: 'module',
      dependencies: tarballs,
      pnpm: { overrides: tarballs },
    },
    null,
    2,
  ),
)
run(
  'pnpm',
  ['install', '--ignore-workspace', '--config.auto-install-peers=true', '--silent'],
  project,
)
run(
  'pnpm',
  [
    'add',
    '--ignore-workspace',
    '-D',
    `typescript@${JSON.parse(readFileSync(join(root, 'node_modules/typescript/package.json'), 'utf8')).version}`,
    `@types/node@${JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')).version}`,
    '--silent',
  ],
  project,
)

const lines = pkgs.map((p, i) => `import * as m${i} from '${p.json.name}'`)
const checks = pkgs.map(
  (p, i) =>
    `if (Object.keys(m${i}).length === 0) throw new Error('${p.json.name} exports nothing')`,
)
writeFileSync(
  join(project, 'index.ts'),
  `${lines.join('\n')}\n${checks.join('\n')}\nconsole.log('consumer: imported ${pkgs.length} packages')\n`,
)
writeFileSync(
  join(project, 'index.mjs'),
  `${lines.join('\n')}\n${checks.join('\n')}\nconsole.log('consumer: imported ${pkgs.length} packages')\n`,
)
writeFileSync(
  join(project, 'tsconfig.json'),
  JSON.stringify({
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      target: 'ES2023',
      strict: true,
      noEmit: true,
      types: ['node'],
      // @ethereumjs/mpt's own .d.ts names modules it does not depend on (debug, @ethereumjs/common);
      // our packages' declarations must still resolve for index.ts to type-check
      skipLibCheck: true,
    },
    files: ['index.ts'],
  }),
)
run('npx', ['tsc', '-p', '.'], project)
process.stdout.write(run('node', ['index.mjs'], project))
console.log(`consumer: types checked for ${pkgs.map((p) => p.json.name).join(', ')}`)
rmSync(work, { recursive: true, force: true })

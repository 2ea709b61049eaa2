import { readFileSync } from 'node:fs';

// Summarises a V8 .cpuprofile by self time: the functions (and the packages) a process spent its
// CPU in. Usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [rows]

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg] = process.argv.slice(2);
if (!file || file === '--help') {
  console.log('Usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [rows]');
  process.exit(file ? 0 : 2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id);
  const dt = profile.timeDeltas[i] ?? 0;
  if (!node) return;
  total += dt;
  const url = node.callFrame.url;
  const pkg =
    /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ??
    (url.startsWith('node:') || !url ? '(node/v8)' : '(ours)');
  const name = `${node.callFrame.functionName || '(anonymous)'}  ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(platform|gateway|subgraphs|scripts)\//, '$1/')}:${node.callFrame.lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + dt);
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + dt);
});
const rows = Number(rowsArg ?? 30);
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
console.log(`${(total / 1e6).toFixed(1)} s sampled\n\nby package:`);
for (const [name, us] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15))
  console.log(`${pct(us)}  ${name}`);
console.log('\nby function (self time):');
for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, rows))
  console.log(`${pct(us)}  ${name}`);

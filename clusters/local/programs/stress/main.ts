// The `polinux/stress` image's program (the one Kubernetes' memory-limit docs use): `stress --vm N
// --vm-bytes 150M [--vm-hang S] [--cpu N] [--timeout S]` holding real resident memory and burning real CPU.

function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([bBkKmMgG]?)$/.exec(text);
  if (!m) {
    process.stderr.write(`stress: FAIL: invalid number: ${text}\n`);
    process.exit(1);
  }
  const mult: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Math.round(Number(m[1]) * (mult[(m[2] ?? '').toLowerCase()] ?? 1));
}

// ps, top and the kernel's OOM message name the program, as they would for the real binary.
process.title = 'stress';
const args = process.argv.slice(2);
let vm = 0;
let vmBytes = 256 * 1024 * 1024;
let cpu = 0;
let timeoutS = 0;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const next = (): string => args[++i] ?? '';
  if (a === '--vm' || a === '-m') vm = Number(next());
  else if (a === '--vm-bytes') vmBytes = parseBytes(next());
  else if (a === '--cpu' || a === '-c') cpu = Number(next());
  else if (a === '--timeout' || a === '-t') timeoutS = parseInt(next(), 10);
  else if (a === '--vm-hang' || a === '--vm-stride' || a === '--vm-keep' || a === '--verbose' || a === '-v') {
    if (a === '--vm-hang' || a === '--vm-stride') next();
  }
}
process.stdout.write(`stress: info: [${process.pid}] dispatching hogs: ${cpu} cpu, 0 io, ${vm} vm, 0 hdd\n`);
const held: Buffer[] = [];
// Allocate in chunks and touch every page, so the memory is resident (RSS), as stress's vm workers do.
const chunk = 16 * 1024 * 1024;
for (let w = 0; w < vm; w++) {
  for (let done = 0; done < vmBytes; done += chunk) {
    const b = Buffer.allocUnsafe(Math.min(chunk, vmBytes - done));
    for (let i = 0; i < b.length; i += 4096) b[i] = 1;
    held.push(b);
  }
}
if (cpu > 0) {
  const burn = (): void => {
    const end = Date.now() + 50;
    while (Date.now() < end) Math.sqrt(Math.random());
    setImmediate(burn);
  };
  burn();
}
setInterval(() => held.length, 60_000);
if (timeoutS > 0) {
  setTimeout(() => {
    process.stdout.write(`stress: info: [${process.pid}] successful run completed in ${timeoutS}s\n`);
    process.exit(0);
  }, timeoutS * 1000);
}

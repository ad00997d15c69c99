// The pause image's program (`/pause`): holds the container open and does nothing, ignoring any arguments the
// pod spec passes — what pod-failure swaps in for every container.

process.title = 'pause';
const done = (): void => process.exit(0);
process.on('SIGTERM', done);
process.on('SIGINT', done);
setInterval(() => undefined, 1 << 30);

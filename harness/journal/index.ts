// The journal writer and run ids: the engine's only output channel.
export * from './run-id.js';
export * from './writer.js';

// Faults: inject one, get back its undo.
export * from './inject.js';

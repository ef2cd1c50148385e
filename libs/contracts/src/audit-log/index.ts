export * from './chain-verifier';
export * from './log-format';
export * from './merkle';
export * from './proofs';

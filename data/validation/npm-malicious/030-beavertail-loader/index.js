// SYNTHETIC, DEFANGED malwi validation sample - modelled on Contagious Interview / BeaverTail loader packages (2023-2024); never run.
'use strict';
require('./lib/perf');

module.exports = async function timed(fn, ...args) {
  const start = process.hrtime.bigint();
  const result = await fn(...args);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { result, ms };
};

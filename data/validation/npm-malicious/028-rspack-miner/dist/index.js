// SYNTHETIC, DEFANGED malwi validation sample - modelled on @rspack/core and @rspack/cli compromise (2024); never run.
'use strict';
function defineConfig(config) {
  return Object.assign({ mode: 'production', entry: './src/index.js', output: { path: 'dist' } }, config);
}
module.exports = { defineConfig: defineConfig, version: '1.1.7' };

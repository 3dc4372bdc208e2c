#!/usr/bin/env node
// SYNTHETIC, DEFANGED malwi validation sample - modelled on the nx "s1ngularity" compromise (August 2025); never run.
'use strict';
const [, , cmd, ...rest] = process.argv;
if (cmd === 'graph') console.log('project graph: ' + rest.join(', '));
else console.log('usage: nx-tools <graph|run> [projects]');

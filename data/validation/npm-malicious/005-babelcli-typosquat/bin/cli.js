#!/usr/bin/env node
// SYNTHETIC, DEFANGED malwi validation sample - modelled on the 2017 hacktask typosquats (babelcli); never run.
require('babel-cli/bin/babel');

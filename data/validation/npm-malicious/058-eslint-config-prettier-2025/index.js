// SYNTHETIC, DEFANGED malwi validation sample - modelled on the eslint-config-prettier phishing compromise (July 2025); never run.
'use strict';
module.exports = {
  rules: {
    curly: 0,
    'no-unexpected-multiline': 0,
    indent: 'off',
    quotes: 0,
    semi: 'off',
    'arrow-parens': 'off',
    'max-len': 0
  }
};

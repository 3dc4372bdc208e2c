// SYNTHETIC, DEFANGED malwi validation sample - modelled on the PhantomRaven campaign (2025, remote dynamic dependency); never run.
// Nothing here is malicious: the payload arrives through the http: URL dependency in package.json,
// which the registry does not show or scan.
'use strict';
module.exports = {
  rules: {
    'no-unused-imports': {
      meta: { type: 'problem', fixable: 'code' },
      create(context) {
        return {
          ImportDeclaration(node) {
            if (node.specifiers.length === 0) return;
            context.getDeclaredVariables(node).forEach((v) => {
              if (v.references.length === 0) context.report({ node, message: `'${v.name}' is imported but never used.` });
            });
          }
        };
      }
    }
  }
};

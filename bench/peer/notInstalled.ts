// Stands in for transformers.js while it is not installed (bench/peer/package.json): the bench page still builds,
// and a peer case started anyway fails with this sentence. `npm run bench` installs the peer before its cases.
throw new Error(
  'transformers.js is not installed: `npm run bench` installs it into bench/peer on first use.',
);

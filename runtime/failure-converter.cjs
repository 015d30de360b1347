// Loaded by Temporal (the worker, the workflow bundle and the clients; see payload-codec.ts): a
// failure's message and stack trace go into its encoded attributes, which the payload codec
// encrypts, so error texts that quote personal data never reach Temporal's history in clear.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });

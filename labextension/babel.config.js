// Babel turns the ES modules of @jupyterlab/* into CommonJS for jest.
const config = require('@jupyterlab/testing/lib/babel-config');

module.exports = config.default ?? config;

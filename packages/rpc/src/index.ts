// Interfaces: the backend a node implements, options, JSON shapes

// Typed client with subscribe()
export * from './client.js'
// Error codes, error class, guard
export * from './errors.js'
export * from './explorer.js'
// JSON conventions: encoders and strict parsers
export * from './json.js'
// In-memory backend for tests and examples
export * from './mock.js'
export * from './openapi.js'
// Limits and defaults
export * from './params.js'
// The route table (one definition for server, client and OpenAPI)
export * from './routes.js'
// Server, WebSocket hub, explorer page
export * from './server.js'
export * from './types.js'
export * from './ws.js'

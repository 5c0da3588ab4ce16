/** Authentication and authorisation: identities, tokens, scopes, permission checks. */
export { ensureAdminToken, ADMIN_TOKEN_HASH_KEY } from './admin-token.js';
export * from './policy.js';
export * from './tokens.js';
export * from './identity-ref.js';
export * from './request-auth.js';
export * from './identity-repository.js';
export * from './auth-directory.js';
export * from './auth-service.js';
export * from './passwords.js';
export * from './gateway-authorizer.js';

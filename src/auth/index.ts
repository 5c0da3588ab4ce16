/** Authentication: the admin token (real identities come with the auth issue). */
export { AdminTokenVerifier, ensureAdminToken, generateToken, hashToken, tokenFromHeaders, ADMIN_TOKEN_HASH_KEY } from './admin-token.js';

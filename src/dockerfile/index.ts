export { lintDockerfile } from './lint.js';

export { PROJECTS } from '../../../operator/src/api/resources.ts';

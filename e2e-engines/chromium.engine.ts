/** The shared scenarios (scenarios.ts) in chromium. */
import { defineEngineSuite } from './suite';

defineEngineSuite('chromium');

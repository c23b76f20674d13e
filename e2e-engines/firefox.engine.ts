/** The shared scenarios (scenarios.ts) in firefox. */
import { defineEngineSuite } from './suite';

defineEngineSuite('firefox');

/**
 * The DJL reference trainer: Fashion-MNIST jobs that train well or fail in a chosen way, the workload
 * on which gradguard is measured. Nothing here knows of the agent.
 */
package io.gradguard.examples;

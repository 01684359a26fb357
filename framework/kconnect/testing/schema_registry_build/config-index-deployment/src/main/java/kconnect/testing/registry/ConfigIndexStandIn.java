package kconnect.testing.registry;

import java.util.ArrayList;

import apicurio.common.app.components.config.index.DynamicPropertiesInfoRecorder;
import io.apicurio.common.apps.config.DynamicConfigPropertyList;
import io.quarkus.arc.deployment.SyntheticBeanBuildItem;
import io.quarkus.deployment.annotations.BuildProducer;
import io.quarkus.deployment.annotations.BuildStep;
import io.quarkus.deployment.annotations.ExecutionTime;
import io.quarkus.deployment.annotations.Record;

/**
 * Stands in for the config-index extension's build step: the registry needs a
 * DynamicConfigPropertyList bean to start. An empty list means no property can be changed at run
 * time through the registry's admin API, which the tests never do; every property still takes its
 * value from the static configuration.
 */
class ConfigIndexStandIn {

    @BuildStep
    @Record(ExecutionTime.RUNTIME_INIT)
    void dynamicPropertyList(
            DynamicPropertiesInfoRecorder recorder, BuildProducer<SyntheticBeanBuildItem> beans) {
        beans.produce(SyntheticBeanBuildItem.configure(DynamicConfigPropertyList.class)
                .runtimeValue(recorder.initializePropertiesInfo(new ArrayList<>()))
                .unremovable()
                .setRuntimeInit()
                .done());
    }
}

-- One database per service (a service never reads another's tables; docs/architecture.md).
CREATE DATABASE putokaz_screening;
CREATE DATABASE putokaz_referral;
CREATE DATABASE putokaz_registry;
CREATE DATABASE putokaz_strategy;

-- One database per service (DESIGN.md §2: a service never reads another's tables).
CREATE DATABASE putokaz_screening;
CREATE DATABASE putokaz_referral;
CREATE DATABASE putokaz_registry;
CREATE DATABASE putokaz_strategy;

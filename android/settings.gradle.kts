// The Kring Android library (Kotlin bindings + app layer) as a stand-alone Gradle build.
// Apps use it with `includeBuild("path/to/kring/android")` or a published AAR.
// Not built in Kring's CI (no Android SDK/NDK or Gradle there): see docs/mobile.md.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "kring-android"

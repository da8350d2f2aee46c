from setuptools import find_packages, setup

setup(
    name="drift_assets",
    version="0.1.0",
    description="A Dagster project that keeps a demand model healthy as production data drifts.",
    packages=find_packages(exclude=["drift_assets_tests"]),
    python_requires=">=3.11,<3.12",
    install_requires=[
        # Each dagster library 0.29.N pins dagster==1.13.N exactly: move them together.
        "dagster==1.13.27",
        "dagster-webserver==1.13.27",
        "dagster-postgres==0.29.27",
        "dagster-aws==0.29.27",
        "dagster-slack==0.29.27",
        "dagster-celery==0.29.27",
        "evidently==0.7.23",
        "pandas>=2.2,<3",  # Evidently 0.7 does not work with pandas 3
        "numpy",
        "scipy",
        "scikit-learn>=1.4",
        "joblib",
        "pyarrow",
        "SQLAlchemy>=2.0",
        "psycopg[binary]>=3.1",
        # dagster-postgres's run storage needs psycopg2 (see dagster.yaml)
        "psycopg2-binary",
        "boto3",
        "slack_sdk",
        "tabulate",
        "matplotlib",
        # scale-out (docs/scaling.md): the Celery result backend, and Dask for large months
        "redis",
        "dask[dataframe,distributed]",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-timeout", "moto[server]>=5", "ruff", "playwright",
                 "hypothesis"],
    },
    entry_points={"console_scripts": ["drift-assets=drift_assets.cli:main"]},
)

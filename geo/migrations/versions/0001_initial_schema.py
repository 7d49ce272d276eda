"""Initial schema: PostGIS and pgRouting, the county's tables, updated_at triggers

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 12:53:38.849631
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


TOUCH_FUNCTION = """
CREATE OR REPLACE FUNCTION riskmap_touch_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""

TABLES = (
    "county", "township", "village", "grid_cell", "enterprise", "chemical_inventory", "hazard", "accident",
    "pipeline", "pipeline_facility", "encroachment", "building", "road", "mine", "mine_zone", "inspection",
)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    op.execute(TOUCH_FUNCTION)
    op.create_geospatial_table('county',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('metric_srid', sa.Integer(), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_geospatial_index('ix_county_geom_gist', 'county', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('mine_zone',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source_document', sa.Text(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('no_mining_zone', 'restricted_zone', 'mining_zone')", name='ck_mine_zone_kind'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_geospatial_index('ix_mine_zone_geom_gist', 'mine_zone', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('pipeline',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('operator', sa.String(length=200), nullable=True),
    sa.Column('medium', sa.String(length=10), nullable=False),
    sa.Column('design_pressure_mpa', sa.Float(), nullable=True),
    sa.Column('outside_diameter_mm', sa.Float(), nullable=True),
    sa.Column('burial_depth_m', sa.Float(), nullable=True),
    sa.Column('commissioning_year', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTILINESTRING', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("medium IN ('gas', 'crude', 'product', 'chemical')", name='ck_pipeline_medium'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_geospatial_index('ix_pipeline_geom_gist', 'pipeline', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('road',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('road_class', sa.String(length=20), server_default='unclassified', nullable=False),
    sa.Column('oneway', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('geom', Geometry(geometry_type='LINESTRING', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_geospatial_index('ix_road_geom_gist', 'road', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('township',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('is_illustrative', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("code ~ '^[0-9]{12}$'", name='ck_township_code'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_geospatial_index('ix_township_geom_gist', 'township', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_geospatial_table('building',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('use_class', sa.String(length=12), server_default='residential', nullable=False),
    sa.Column('floors', sa.Integer(), server_default='1', nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("use_class IN ('residential', 'school', 'hospital', 'market', 'industrial', 'other')", name='ck_building_use'),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_geospatial_index('ix_building_geom_gist', 'building', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_building_township_id'), 'building', ['township_id'], unique=False)
    op.create_geospatial_table('encroachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('pipeline_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('kind', sa.String(length=24), server_default='encroachment', nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('formed_on', sa.Date(), nullable=True),
    sa.Column('nature', sa.String(length=24), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), server_default='found', nullable=False),
    sa.Column('found_on', sa.Date(), nullable=True),
    sa.Column('measure', sa.Text(), nullable=True),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('responsible_operator', sa.String(length=200), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closed_by', sa.String(length=50), nullable=True),
    sa.Column('dossier', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('encroachment', 'insufficient_distance', 'crossing')", name='ck_encroachment_kind'),
    sa.CheckConstraint("nature IS NULL OR nature IN ('illegal_construction', 'historical', 'legality_pending')", name='ck_encroachment_nature'),
    sa.CheckConstraint("status IN ('found', 'confirmed', 'rectifying', 'rectified', 'closed')", name='ck_encroachment_status'),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipeline.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_geospatial_index('ix_encroachment_geom_gist', 'encroachment', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_encroachment_pipeline_id'), 'encroachment', ['pipeline_id'], unique=False)
    op.create_index(op.f('ix_encroachment_township_id'), 'encroachment', ['township_id'], unique=False)
    op.create_geospatial_table('enterprise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uscc', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('employees', sa.Integer(), nullable=True),
    sa.Column('key_process', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('key_chemical', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('major_hazard_source', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('standardisation_grade', sa.Integer(), nullable=True),
    sa.Column('in_chemical_park', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("category IN ('hazchem', 'coal_mine', 'non_coal_mine', 'metallurgy', 'fireworks', 'construction', 'industry_trade', 'gas', 'other')", name='ck_enterprise_category'),
    sa.CheckConstraint('standardisation_grade IS NULL OR standardisation_grade BETWEEN 1 AND 3', name='ck_enterprise_std_grade'),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uscc')
    )
    op.create_index(op.f('ix_enterprise_category'), 'enterprise', ['category'], unique=False)
    op.create_geospatial_index('ix_enterprise_geom_gist', 'enterprise', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_enterprise_township_id'), 'enterprise', ['township_id'], unique=False)
    op.create_geospatial_table('grid_cell',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('officer_name', sa.String(length=50), nullable=True),
    sa.Column('officer_phone', sa.String(length=20), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_geospatial_index('ix_grid_cell_geom_gist', 'grid_cell', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_grid_cell_township_id'), 'grid_cell', ['township_id'], unique=False)
    op.create_geospatial_table('pipeline_facility',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pipeline_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('station', 'valve', 'depot', 'pigging', 'other')", name='ck_facility_kind'),
    sa.ForeignKeyConstraint(['pipeline_id'], ['pipeline.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_geospatial_index('ix_pipeline_facility_geom_gist', 'pipeline_facility', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_pipeline_facility_pipeline_id'), 'pipeline_facility', ['pipeline_id'], unique=False)
    op.create_geospatial_table('village',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_geospatial_index('ix_village_geom_gist', 'village', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_village_township_id'), 'village', ['township_id'], unique=False)
    op.create_table('accident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('deaths', sa.Integer(), server_default='0', nullable=False),
    sa.Column('serious_injuries', sa.Integer(), server_default='0', nullable=False),
    sa.Column('direct_loss_10k_yuan', sa.Float(), server_default='0', nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_accident_enterprise_id'), 'accident', ['enterprise_id'], unique=False)
    op.create_table('chemical_inventory',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('substance', sa.String(length=100), nullable=False),
    sa.Column('cas', sa.String(length=20), nullable=True),
    sa.Column('max_quantity_t', sa.Float(), nullable=False),
    sa.Column('hazard_class', sa.String(length=8), nullable=True),
    sa.Column('unit_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('max_quantity_t >= 0', name='ck_inventory_quantity'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_chemical_inventory_enterprise_id'), 'chemical_inventory', ['enterprise_id'], unique=False)
    op.create_table('hazard',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=True),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('found_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), server_default='found', nullable=False),
    sa.Column('rectified_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closed_by', sa.String(length=50), nullable=True),
    sa.Column('supervising_department', sa.String(length=100), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("level IN ('general', 'major')", name='ck_hazard_level'),
    sa.CheckConstraint("status IN ('found', 'rectifying', 'rectified', 'closed')", name='ck_hazard_status'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index(op.f('ix_hazard_enterprise_id'), 'hazard', ['enterprise_id'], unique=False)
    op.create_table('inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('team', sa.String(length=50), nullable=True),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_inspection_enterprise_id'), 'inspection', ['enterprise_id'], unique=False)
    op.create_geospatial_table('mine',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('licence_no', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('mineral', sa.String(length=50), nullable=True),
    sa.Column('mine_type', sa.String(length=10), nullable=False),
    sa.Column('method', sa.String(length=12), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('township_id', sa.Integer(), nullable=True),
    sa.Column('operating', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('floor_elevation_m', sa.Float(), nullable=True),
    sa.Column('ceiling_elevation_m', sa.Float(), nullable=True),
    sa.Column('licence_boundary', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('workings', Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("method IN ('open_pit', 'underground')", name='ck_mine_method'),
    sa.CheckConstraint("mine_type IN ('coal', 'non_coal')", name='ck_mine_type'),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprise.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['township_id'], ['township.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('licence_no')
    )
    op.create_index(op.f('ix_mine_enterprise_id'), 'mine', ['enterprise_id'], unique=False)
    op.create_geospatial_index('ix_mine_licence_boundary_gist', 'mine', ['licence_boundary'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_index(op.f('ix_mine_township_id'), 'mine', ['township_id'], unique=False)
    op.create_geospatial_index('ix_mine_workings_gist', 'mine', ['workings'], unique=False, postgresql_using='gist', postgresql_ops={})
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION riskmap_touch_updated_at()"
        )


def downgrade() -> None:
    op.drop_geospatial_index('ix_mine_workings_gist', table_name='mine', postgresql_using='gist', column_name='workings')
    op.drop_index(op.f('ix_mine_township_id'), table_name='mine')
    op.drop_geospatial_index('ix_mine_licence_boundary_gist', table_name='mine', postgresql_using='gist', column_name='licence_boundary')
    op.drop_index(op.f('ix_mine_enterprise_id'), table_name='mine')
    op.drop_geospatial_table('mine')
    op.drop_index(op.f('ix_inspection_enterprise_id'), table_name='inspection')
    op.drop_table('inspection')
    op.drop_index(op.f('ix_hazard_enterprise_id'), table_name='hazard')
    op.drop_table('hazard')
    op.drop_index(op.f('ix_chemical_inventory_enterprise_id'), table_name='chemical_inventory')
    op.drop_table('chemical_inventory')
    op.drop_index(op.f('ix_accident_enterprise_id'), table_name='accident')
    op.drop_table('accident')
    op.drop_index(op.f('ix_village_township_id'), table_name='village')
    op.drop_geospatial_index('ix_village_geom_gist', table_name='village', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('village')
    op.drop_index(op.f('ix_pipeline_facility_pipeline_id'), table_name='pipeline_facility')
    op.drop_geospatial_index('ix_pipeline_facility_geom_gist', table_name='pipeline_facility', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('pipeline_facility')
    op.drop_index(op.f('ix_grid_cell_township_id'), table_name='grid_cell')
    op.drop_geospatial_index('ix_grid_cell_geom_gist', table_name='grid_cell', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('grid_cell')
    op.drop_index(op.f('ix_enterprise_township_id'), table_name='enterprise')
    op.drop_geospatial_index('ix_enterprise_geom_gist', table_name='enterprise', postgresql_using='gist', column_name='geom')
    op.drop_index(op.f('ix_enterprise_category'), table_name='enterprise')
    op.drop_geospatial_table('enterprise')
    op.drop_index(op.f('ix_encroachment_township_id'), table_name='encroachment')
    op.drop_index(op.f('ix_encroachment_pipeline_id'), table_name='encroachment')
    op.drop_geospatial_index('ix_encroachment_geom_gist', table_name='encroachment', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('encroachment')
    op.drop_index(op.f('ix_building_township_id'), table_name='building')
    op.drop_geospatial_index('ix_building_geom_gist', table_name='building', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('building')
    op.drop_geospatial_index('ix_township_geom_gist', table_name='township', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('township')
    op.drop_geospatial_index('ix_road_geom_gist', table_name='road', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('road')
    op.drop_geospatial_index('ix_pipeline_geom_gist', table_name='pipeline', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('pipeline')
    op.drop_geospatial_index('ix_mine_zone_geom_gist', table_name='mine_zone', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('mine_zone')
    op.drop_geospatial_index('ix_county_geom_gist', table_name='county', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('county')
    op.execute("DROP FUNCTION IF EXISTS riskmap_touch_updated_at()")
